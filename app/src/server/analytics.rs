//! The Analytics page: how publishing went over a range of days in the viewer's timezone.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;
use crier_platform::Platform;

/// Deliveries and how they ended, as shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRow {
    /// The platform or account's name.
    pub label: String,
    /// Its platform (none for the totals).
    pub platform: Option<Platform>,
    /// An account's profile picture, where Crier serves it (none for platforms and totals).
    pub picture: Option<String>,
    /// Deliveries due in the range.
    pub deliveries: i64,
    /// Published.
    pub published: i64,
    /// Failed for good.
    pub failed: i64,
    /// published ÷ finished, when something finished.
    pub success_rate: Option<f64>,
}

/// One step of the chart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChartStep {
    /// Its start in the viewer's zone (`11-21` or `11-21 14:00`).
    pub label: String,
    /// Published during it.
    pub published: i64,
    /// Failed for good during it.
    pub failed: i64,
    /// Due and unfinished at its end.
    pub queued: i64,
}

/// Everything the Analytics page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsData {
    /// The first day shown (`YYYY-MM-DD`).
    pub first: String,
    /// The last day shown.
    pub last: String,
    /// Posts due in the range.
    pub posts: i64,
    /// All their deliveries.
    pub totals: OutcomeRow,
    /// Per platform.
    pub platforms: Vec<OutcomeRow>,
    /// Per account.
    pub accounts: Vec<OutcomeRow>,
    /// Mean time of a successful publish call, in ms.
    pub average_publish_ms: Option<f64>,
    /// Calls per published delivery.
    pub attempts_per_published: Option<f64>,
    /// Token refreshes.
    pub token_refreshes: i64,
    /// Calls answered "rate limited".
    pub rate_limit_waits: i64,
    /// Deliveries waiting now.
    pub queued_now: i64,
    /// "day" or "hour".
    pub step: String,
    /// The chart's steps.
    pub chart: Vec<ChartStep>,
    /// Clicks on the team's short links in the range.
    pub clicks: LinkClicks,
}

/// Clicks on short links: all, per platform, and the posts with most.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClicks {
    /// All clicks.
    pub total: i64,
    /// Per platform (its label), those with clicks.
    pub platforms: Vec<(String, i64)>,
    /// The posts with most clicks: id, the start of the text, clicks.
    pub posts: Vec<(String, String, i64)>,
}

/// The figures for the days `from`..=`until` (`YYYY-MM-DD` in the viewer's zone; default the
/// last 30 days).
#[server(prefix = "/api", endpoint = "analytics")]
pub async fn analytics_view(#[server(default)] from: String, #[server(default)] until: String) -> Result<AnalyticsData, AppError> {
    use crier_domain::store::analytics::{self, Outcomes};

    use super::ssr::{current_member, pool};
    let me = current_member().await?;
    let range = me.timezone.day_range(&from, &until, 30, chrono::Utc::now()).map_err(|e| AppError::Fields(vec![e]))?;
    let pool = pool()?;
    let figures = analytics::summary(&pool, me.team_id, range.from, range.until).await?;
    let (steps, step) = range.chart_steps();
    let format = if step == "hour" { "%m-%d %H:%M" } else { "%m-%d" };
    let series = analytics::series(&pool, me.team_id, range.from, range.until, steps).await?;
    let mut pictures = crier_domain::store::account_pictures::urls(&pool, me.team_id).await?;
    let clicks = crier_domain::store::link_tracking::clicks(&pool, me.team_id, range.from, range.until).await?;
    let row = |label: String, platform: Option<Platform>, o: Outcomes| OutcomeRow {
        label,
        platform,
        picture: None,
        deliveries: o.deliveries,
        published: o.published,
        failed: o.failed,
        success_rate: o.success_rate(),
    };
    Ok(AnalyticsData {
        first: range.first.to_string(),
        last: range.last.to_string(),
        posts: figures.posts,
        totals: row("All".into(), None, figures.outcomes),
        platforms: figures.platforms.iter().map(|p| row(p.platform.label().into(), Some(p.platform), p.outcomes)).collect(),
        accounts: figures
            .accounts
            .into_iter()
            .map(|a| OutcomeRow { picture: pictures.remove(&a.account_id), ..row(a.name, Some(a.platform), a.outcomes) })
            .collect(),
        average_publish_ms: figures.average_publish_ms,
        attempts_per_published: figures.attempts_per_published,
        token_refreshes: figures.token_refreshes,
        rate_limit_waits: figures.rate_limit_waits,
        queued_now: figures.queued_now,
        step: step.into(),
        chart: series
            .into_iter()
            .map(|b| ChartStep {
                label: b.start.with_timezone(&me.timezone.tz()).format(format).to_string(),
                published: b.published,
                failed: b.failed,
                queued: b.queued,
            })
            .collect(),
        clicks: LinkClicks {
            total: clicks.total,
            platforms: clicks.by_platform.into_iter().map(|(p, n)| (p.label().to_owned(), n)).collect(),
            posts: clicks.top_posts.into_iter().map(|p| (p.post_id.to_string(), p.text, p.clicks)).collect(),
        },
    })
}
