//! `/compose/import`: bulk import of posts from a CSV file. A plain `multipart/form-data` form
//! (no island: it works without JavaScript) posts the file to `/compose/import`, which starts the
//! import and comes back here with `?job=ID`: while the import runs the page shows how far it has
//! come and reloads itself every second (a `refresh` meta tag, so without JavaScript too); then
//! the report: the counts, or each row and column to fix.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_query_map;

use crate::server::imports::{ImportOutcome, ImportRunning, import_view};

/// The Import page.
#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.with(|q| q.get("job")), import_view);
    view! {
        <Title text="Import posts" />
        <h1>"Import posts from a CSV file"</h1>
        <p><a href="/compose">"Compose"</a> " · " <a href="/compose/batch">"Schedule batch"</a></p>
        <Suspense fallback=|| view! { <p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => {
                        let outcome = view_data.outcome.map(|o| view! { <Report outcome=o /> });
                        let running = view_data.running.map(|r| view! { <Running running=r /> });
                        let form = if view_data.can_import {
                            view! {
                                <form class="panel stack" method="post" action="/compose/import" enctype="multipart/form-data">
                                    <div class="field">
                                        <label for="import-file">"CSV file"</label>
                                        <p class="hint" id="import-file-hint">{format!(
                                            "UTF-8, at most {} rows and {}. Dates and times are read in your timezone, {}.",
                                            view_data.max_rows, view_data.max_file, view_data.timezone
                                        )}</p>
                                        <input id="import-file" type="file" name="file" accept=".csv,text/csv" required aria-describedby="import-file-hint" />
                                    </div>
                                    <div class="actions"><button type="submit">"Import"</button></div>
                                    <p class="hint">"Every row is checked first: if any is wrong, nothing is imported and each row to fix is listed. A large file takes a few seconds: this page shows how far it has come."</p>
                                </form>
                            }.into_any()
                        } else {
                            view! { <p class="hint">"Viewers cannot import posts. Ask an owner or admin for the editor role."</p> }.into_any()
                        };
                        view! {
                            {running}
                            {outcome}
                            {form}
                            <Format />
                        }.into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// An import still running: its stage and count. The page reloads itself until it is done.
#[component]
fn Running(running: ImportRunning) -> impl IntoView {
    let counted = running.of > 0;
    let count = if counted { format!(": {} of {}", running.done, running.of) } else { String::new() };
    view! {
        <Meta http_equiv="refresh" content="1" />
        <section class="panel stack" aria-labelledby="import-running-heading">
            <h2 id="import-running-heading">{format!("Importing {}", running.file_name)}</h2>
            <p role="status">{format!("{}{count}…", running.doing)}</p>
            {counted.then(|| view! {
                <progress max=running.of value=running.done aria-labelledby="import-running-heading">{format!("{} of {}", running.done, running.of)}</progress>
            })}
            <p class="hint">"This page updates itself until the import is done. Leaving it does not stop the import."</p>
        </section>
    }
}

/// An import's outcome: the counts, or the table of problems.
#[component]
fn Report(outcome: ImportOutcome) -> impl IntoView {
    let timing = format!("{} ({} ms)", outcome.file_name, outcome.millis);
    if outcome.imported {
        return view! {
            <p class="notice" role="status">{outcome.summary} " " <a href="/">"See them on the dashboard"</a></p>
            <p class="hint">{timing}</p>
        }
        .into_any();
    }
    let more = (outcome.more_problems > 0).then(|| view! { <p class="hint">{format!("…and {} more.", outcome.more_problems)}</p> });
    let rows = outcome
        .problems
        .into_iter()
        .map(|p| {
            let row = p.row.map_or_else(|| "file".to_owned(), |r| r.to_string());
            view! {
                <tr>
                    <td data-label="Row">{row}</td>
                    <td data-label="Column">{p.column.unwrap_or_default()}</td>
                    <td data-label="What to fix">{p.message}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="form-error" role="alert">
            <p>{outcome.summary}</p>
        </div>
        <p class="hint">{timing}</p>
        <table class="import-problems">
            <caption>"What to fix"</caption>
            <thead><tr><th scope="col">"Row"</th><th scope="col">"Column"</th><th scope="col">"What to fix"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {more}
    }
    .into_any()
}

/// The columns, and the template.
#[component]
fn Format() -> impl IntoView {
    view! {
        <section class="panel stack" aria-labelledby="format-heading">
            <h2 id="format-heading">"The file"</h2>
            <p><a href="/compose/import/template.csv" download="crier-import-template.csv">"Download the template"</a> " (a header row and two example posts)."</p>
            <p>"A header row names the columns, in any order. One row per post:"</p>
            <ul>
                <li><code>"text"</code> " (required): the post."</li>
                <li><code>"text_x"</code> ", " <code>"text_linkedin"</code> ", " <code>"text_facebook"</code> ": a different text for that platform."</li>
                <li><code>"accounts"</code> " (required): account names, separated by " <code>";"</code> ". Where a name is on several platforms, write " <code>"x:Name"</code> ", " <code>"linkedin:Name"</code> " or " <code>"facebook:Name"</code> "; " <code>"@handle"</code> " picks an X account."</li>
                <li><code>"date"</code> " (required, " <code>"YYYY-MM-DD"</code> ") and " <code>"time"</code> " (" <code>"HH:MM"</code> ", 24-hour), in your timezone; or " <code>"queue"</code> " in " <code>"date"</code> " for each account's next free posting time (set on its queue page)."</li>
                <li><code>"link"</code> ": a web address."</li>
                <li><code>"thread"</code> ": X replies after the post, separated by a line holding only " <code>"---"</code> "."</li>
                <li><code>"media"</code> ": names of items in the " <a href="/media">"Media library"</a> ", or https addresses of files (fetched into the library, 20 per import at most), separated by " <code>";"</code> "."</li>
            </ul>
            <p class="hint">"Importing the same rows again adds nothing: each row is recognised by its text, accounts and time."</p>
        </section>
    }
}
