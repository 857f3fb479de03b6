//! Charts drawn as SVG on the server: no chart library in the wasm, and they show before (and
//! without) hydration. Each mark has a `<title>` with its numbers, and every chart is followed by
//! its data as a table for screen readers and copying.

use leptos::prelude::*;

use crate::server::analytics::ChartStep;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;

/// Published and failed deliveries per step as stacked bars, and the queue at each step's end as
/// a line.
#[component]
pub fn StepChart(steps: Vec<ChartStep>, step: String) -> impl IntoView {
    let n = steps.len().max(1) as f64;
    let top = steps.iter().map(|s| (s.published + s.failed).max(s.queued)).max().unwrap_or(0).max(1) as f64;
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n;
    let y = move |v: i64| TOP + plot_h - (v as f64 / top) * plot_h;
    let x = move |i: usize| LEFT + slot * i as f64;
    let every = (steps.len() / 8).max(1);
    let bars = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let title = format!("{}: {} published, {} failed, {} waiting", s.label, s.published, s.failed, s.queued);
            let (bar_x, bar_w) = (x(i) + slot * 0.15, (slot * 0.7).max(1.0));
            let label = (i % every == 0).then(|| {
                view! { <text class="axis" x=format!("{:.1}", x(i) + slot / 2.0) y=format!("{:.1}", HEIGHT - 8.0) text-anchor="middle">{s.label.clone()}</text> }
            });
            view! {
                <g>
                    <title>{title}</title>
                    <rect class="bar-published" x=format!("{bar_x:.1}") y=format!("{:.1}", y(s.published)) width=format!("{bar_w:.1}")
                        height=format!("{:.1}", TOP + plot_h - y(s.published)) />
                    <rect class="bar-failed" x=format!("{bar_x:.1}") y=format!("{:.1}", y(s.published + s.failed)) width=format!("{bar_w:.1}")
                        height=format!("{:.1}", y(s.published) - y(s.published + s.failed)) />
                    {label}
                </g>
            }
        })
        .collect_view();
    let queue = steps.iter().enumerate().map(|(i, s)| format!("{:.1},{:.1}", x(i) + slot / 2.0, y(s.queued))).collect::<Vec<_>>().join(" ");
    let ticks = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|f| {
            let value = (top * f).round() as i64;
            view! {
                <line class="grid" x1=format!("{LEFT}") x2=format!("{WIDTH}") y1=format!("{:.1}", y(value)) y2=format!("{:.1}", y(value)) />
                <text class="axis" x=format!("{}", LEFT - 6.0) y=format!("{:.1}", y(value) + 4.0) text-anchor="end">{value}</text>
            }
        })
        .collect_view();
    let rows = steps
        .iter()
        .map(|s| {
            view! {
                <tr>
                    <td data-label=step.clone()>{s.label.clone()}</td>
                    <td data-label="Published">{s.published}</td>
                    <td data-label="Failed">{s.failed}</td>
                    <td data-label="Waiting at its end">{s.queued}</td>
                </tr>
            }
        })
        .collect_view();
    let summary = format!("Deliveries published (green) and failed (red) per {step}, and waiting at the end of each {step} (line).");
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="step-chart-title">
                <title id="step-chart-title">{summary.clone()}</title>
                {ticks}
                {bars}
                <polyline class="line-queued" points=queue fill="none" />
            </svg>
            <figcaption class="legend">
                <span class="key published">"published"</span>
                <span class="key failed">"failed"</span>
                <span class="key queued">"waiting"</span>
            </figcaption>
            <details>
                <summary>"Show as a table"</summary>
                <table>
                    <thead><tr><th scope="col">{step.clone()}</th><th scope="col">"Published"</th><th scope="col">"Failed"</th><th scope="col">"Waiting at its end"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

/// A success rate as a small horizontal bar with its percentage.
#[component]
pub fn RateBar(rate: Option<f64>) -> impl IntoView {
    match rate {
        Some(rate) => {
            let width = format!("{:.1}", (rate * 100.0).clamp(0.0, 100.0));
            view! {
                <span class="rate">
                    <svg viewBox="0 0 100 8" class="rate-bar" aria-hidden="true">
                        <rect class="rate-track" x="0" y="0" width="100" height="8" />
                        <rect class="rate-fill" x="0" y="0" width=width height="8" />
                    </svg>
                    {format!("{:.1}%", rate * 100.0)}
                </span>
            }
            .into_any()
        }
        None => view! { <span class="hint">"—"</span> }.into_any(),
    }
}
