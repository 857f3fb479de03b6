//! `GET /analytics/export.csv`: the Analytics page's series as CSV, for a spreadsheet. A page
//! load behind the sign-in gate (which put the member into the request), scoped to their team.
//! Every value is a timestamp or a number, so no field ever needs CSV quoting.

use app::state::AppState;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use crier_domain::store::Member;
use crier_domain::store::analytics;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct Range {
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
}

pub(super) async fn csv(State(state): State<AppState>, Extension(member): Extension<Member>, Query(q): Query<Range>) -> Response {
    let range = match member.timezone.day_range(&q.from, &q.until, 30, chrono::Utc::now()) {
        Ok(range) => range,
        Err(e) => return (StatusCode::UNPROCESSABLE_ENTITY, format!("{}: {}", e.field, e.message)).into_response(),
    };
    let (steps, _) = range.chart_steps();
    let series = match analytics::series(&state.pool, member.team_id, range.from, range.until, steps).await {
        Ok(series) => series,
        Err(e) => {
            tracing::error!(error = %e, "analytics export failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "Crier could not read the figures just now. Please try again.").into_response();
        }
    };
    let zone = member.timezone.tz();
    let mut body = String::from("step_start_utc,step_start_local,published,failed,waiting_at_end\n");
    for b in series {
        let local = b.start.with_timezone(&zone).format("%Y-%m-%d %H:%M");
        body.push_str(&format!(
            "{},{local},{},{},{}\n",
            b.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            b.published,
            b.failed,
            b.queued
        ));
    }
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let name = format!("attachment; filename=\"crier-analytics-{}-{}.csv\"", range.first, range.last);
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}
