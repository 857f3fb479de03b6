//! `/analytics`: totals, success rates per platform and per account, response times, retries,
//! refreshes, rate-limit waits, and the queue over time, for a range of days; CSV export. The
//! range form is a plain GET form, so every range has its own address and works before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::avatar::Avatar;
use crate::components::chart::{RateBar, StepChart};
use crate::server::analytics::{AnalyticsData, LinkClicks, OutcomeRow, analytics_view};

/// The Analytics page.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let data = Resource::new(move || (param("from"), param("until")), |(from, until)| analytics_view(from, until));
    view! {
        <Title text="Analytics" />
        <h1>"Analytics"</h1>
        <Suspense fallback=|| view! { <p class="hint">"Counting…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(figures) => view! { <Figures figures /> }.into_any(),
                    Err(e) => view! {
                        <RangeForm first=param("from") last=param("until") />
                        <p class="form-error" role="alert">{e.field("from").or_else(|| e.field("until")).unwrap_or_else(|| e.to_string())}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RangeForm(first: String, last: String) -> impl IntoView {
    let csv = format!("/analytics/export.csv?from={first}&until={last}");
    view! {
        <form method="get" action="/analytics" class="filters">
            <div class="field">
                <label for="analytics-from">"From"</label>
                <input id="analytics-from" name="from" type="date" value=first />
            </div>
            <div class="field">
                <label for="analytics-until">"Until"</label>
                <input id="analytics-until" name="until" type="date" value=last />
            </div>
            <div><button type="submit">"Show"</button></div>
            <div><a href=csv download="">"Export CSV"</a></div>
        </form>
    }
}

fn outcome_rows(rows: Vec<OutcomeRow>, with_platform: bool) -> impl IntoView {
    rows.into_iter()
        .map(|r| {
            let platform =
                with_platform.then(|| view! { <td data-label="Platform">{r.platform.map(crier_platform::Platform::label)}</td> });
            let (first, name) = if with_platform { ("Account", r.label) } else { ("Platform", r.label) };
            let avatar = with_platform.then(|| view! { <Avatar name=name.clone() picture=r.picture /> });
            view! {
                <tr>
                    <td data-label=first>{avatar}{name}</td>
                    {platform}
                    <td data-label="Deliveries">{r.deliveries}</td>
                    <td data-label="Published">{r.published}</td>
                    <td data-label="Failed">{r.failed}</td>
                    <td data-label="Success rate"><RateBar rate=r.success_rate /></td>
                </tr>
            }
        })
        .collect_view()
}

#[component]
fn Figures(figures: AnalyticsData) -> impl IntoView {
    let AnalyticsData { first, last, posts, totals, platforms, accounts, step, chart, clicks, .. } = figures.clone();
    let number = |v: Option<f64>, unit: &str| v.map(|v| format!("{v:.1}{unit}")).unwrap_or_else(|| "—".into());
    let cards = [
        ("Posts", posts.to_string()),
        ("Deliveries", totals.deliveries.to_string()),
        ("Published", totals.published.to_string()),
        ("Failed", totals.failed.to_string()),
        ("Success rate", totals.success_rate.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into())),
        ("Average publish time", number(figures.average_publish_ms, " ms")),
        ("Attempts per published delivery", number(figures.attempts_per_published, "")),
        ("Token refreshes", figures.token_refreshes.to_string()),
        ("Rate-limit waits", figures.rate_limit_waits.to_string()),
        ("Waiting now", figures.queued_now.to_string()),
    ]
    .into_iter()
    .map(|(label, value)| view! { <div class="card"><dt>{label}</dt><dd>{value}</dd></div> })
    .collect_view();
    let empty = totals.deliveries == 0;
    view! {
        <RangeForm first=first.clone() last=last.clone() />
        <p class="hint">{format!("Posts due from {first} to {last}, in your timezone.")}</p>
        {empty.then(|| view! { <p class="notice">"Nothing was due in this range. Choose other days, or compose a post."</p> })}
        <dl class="cards">{cards}</dl>
        <h2>{format!("Per {step}")}</h2>
        <StepChart steps=chart step=step.clone() />
        <h2>"Per platform"</h2>
        <table class="figures">
            <thead><tr><th scope="col">"Platform"</th><th scope="col">"Deliveries"</th><th scope="col">"Published"</th><th scope="col">"Failed"</th><th scope="col">"Success rate"</th></tr></thead>
            <tbody>{outcome_rows(platforms, false)}</tbody>
        </table>
        <h2>"Per account"</h2>
        <table class="figures">
            <thead><tr><th scope="col">"Account"</th><th scope="col">"Platform"</th><th scope="col">"Deliveries"</th><th scope="col">"Published"</th><th scope="col">"Failed"</th><th scope="col">"Success rate"</th></tr></thead>
            <tbody>{outcome_rows(accounts, true)}</tbody>
        </table>
        <h2 id="link-clicks">"Link clicks"</h2>
        <LinkClicksTables clicks />
    }
}

/// Clicks on the team's short links in the range (counted per UTC day).
#[component]
fn LinkClicksTables(clicks: LinkClicks) -> impl IntoView {
    if clicks.total == 0 {
        return view! {
            <p class="hint">"No clicks on Crier short links in this range. Turn short links on for a post (Compose → Link tracking) or for the team (" <a href="/settings#link-tracking">"Settings"</a> ")."</p>
        }
        .into_any();
    }
    let platforms = clicks
        .platforms
        .into_iter()
        .map(|(platform, n)| view! { <tr><td data-label="Platform">{platform}</td><td data-label="Clicks">{n}</td></tr> })
        .collect_view();
    let posts = clicks
        .posts
        .into_iter()
        .map(|(id, text, n)| view! { <tr><td data-label="Post"><a href=format!("/posts/{id}")>{text}</a></td><td data-label="Clicks">{n}</td></tr> })
        .collect_view();
    view! {
        <p data-link-clicks=clicks.total.to_string()>{format!("{} clicks on short links, counted per UTC day; link-preview crawlers are not counted.", clicks.total)}</p>
        <table class="figures">
            <thead><tr><th scope="col">"Platform"</th><th scope="col">"Clicks"</th></tr></thead>
            <tbody>{platforms}</tbody>
        </table>
        <table class="figures">
            <thead><tr><th scope="col">"Post"</th><th scope="col">"Clicks"</th></tr></thead>
            <tbody>{posts}</tbody>
        </table>
    }
    .into_any()
}
