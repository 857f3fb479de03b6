//! `/status`: is publishing running for this team: the workers' heartbeats, the team's queue,
//! and every connected account with its last verification and its rate budget. Read-only, and
//! complete in the server's HTML (it needs no wasm).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::avatar::Avatar;
use crate::pages::accounts::{account_title, health_class, short_date};
use crate::server::status::{AccountStatusRow, QueueRow, StatusView, WorkerRow, status_overview};

/// The Status page.
#[component]
pub fn StatusPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| status_overview());
    view! {
        <Title text="Status" />
        <h1>"Status"</h1>
        <Suspense fallback=|| view! { <p class="hint">"Loading the status…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view_data) => view! { <StatusBody data=view_data /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StatusBody(data: StatusView) -> impl IntoView {
    let zone = format!("Times are in {}.", data.timezone);
    view! {
        <section aria-labelledby="status-workers">
            <h2 id="status-workers">"Publishing workers"</h2>
            <Workers workers=data.workers />
        </section>
        <section aria-labelledby="status-queue">
            <h2 id="status-queue">"Queue"</h2>
            <Queue queue=data.queue />
        </section>
        <section aria-labelledby="status-accounts">
            <h2 id="status-accounts">"Accounts"</h2>
            <Accounts accounts=data.accounts />
        </section>
        <p class="hint">{zone}</p>
    }
}

#[component]
fn Workers(workers: Vec<WorkerRow>) -> impl IntoView {
    let alive = workers.iter().filter(|w| w.alive).count();
    let summary = match alive {
        0 => view! {
            <p class="form-error" role="alert">
                "No worker is publishing: scheduled posts wait until one runs. An administrator starts "
                <code>"crier worker"</code>" (or "<code>"crier serve"</code>" without "<code>"--no-worker"</code>")."
            </p>
        }
        .into_any(),
        n => view! { <p class="notice">{format!("{n} {} publishing.", if n == 1 { "worker is" } else { "workers are" })}</p> }.into_any(),
    };
    let table = (!workers.is_empty()).then(|| {
        let rows = workers
            .into_iter()
            .map(|w| {
                let (class, state) = if w.alive { ("status ok", "Alive") } else { ("status bad", "Silent") };
                view! {
                    <tr>
                        <td><code>{w.name}</code></td>
                        <td>{w.started_at}</td>
                        <td>{w.last_seen}</td>
                        <td><span class=class>{state}</span></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="workers">
                <thead><tr><th scope="col">"Worker"</th><th scope="col">"Started"</th><th scope="col">"Last heartbeat"</th><th scope="col">"State"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    view! { {summary} {table} }
}

#[component]
fn Queue(queue: QueueRow) -> impl IntoView {
    let due = match &queue.oldest_due_waited {
        Some(waited) => format!("{} (the oldest has waited {waited})", queue.due),
        None => queue.due.to_string(),
    };
    let waiting = match &queue.next_due_at {
        Some(next) => format!("{} (the next at {next})", queue.waiting),
        None => queue.waiting.to_string(),
    };
    view! {
        <dl class="queue">
            <dt>"Due now"</dt><dd data-queue="due">{due}</dd>
            <dt>"Scheduled for later"</dt><dd data-queue="waiting">{waiting}</dd>
            <dt>"Being published"</dt><dd data-queue="publishing">{queue.publishing}</dd>
            <dt>"Held for a reconnect"</dt><dd data-queue="held">{queue.held}</dd>
        </dl>
    }
}

#[component]
fn Accounts(accounts: Vec<AccountStatusRow>) -> impl IntoView {
    if accounts.is_empty() {
        return view! { <p class="hint">"No accounts connected. Connect one on the "<a href="/accounts">"Accounts"</a>" page."</p> }
            .into_any();
    }
    let rows = accounts
        .into_iter()
        .map(|a| {
            let (budget, used) = match &a.budget {
                Some(budget) => (budget.clone(), a.used.to_string()),
                None => ("None (the platform's own limits)".to_owned(), "—".to_owned()),
            };
            let account = &a.account;
            view! {
                <tr data-account=account.account_id.clone()>
                    <td data-label="Account">
                        <Avatar name=account.name.clone() picture=account.picture.clone() />
                        {account_title(&account.name, account.handle.as_deref(), account.kind)}
                    </td>
                    <td data-label="Platform">{account.platform.label()}</td>
                    <td data-label="Status"><span class=health_class(account.health)>{account.health.label()}</span></td>
                    <td data-label="Last verified">{short_date(&account.last_verified_at)}</td>
                    <td data-label="Last used">{short_date(&account.last_used_at)}</td>
                    <td data-label="Budget">{budget}</td>
                    <td data-label="Used this window">{used}</td>
                    <td data-label="Window resets">{short_date(&a.resets_at)}</td>
                    <td data-label="Paused until">{short_date(&a.paused_until)}</td>
                    <td data-label="Media uploads">{a.media.clone().unwrap_or_else(|| "—".to_owned())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="accounts budgets">
            <thead>
                <tr>
                    <th scope="col">"Account"</th>
                    <th scope="col">"Platform"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Last verified"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Budget"</th>
                    <th scope="col">"Used this window"</th>
                    <th scope="col">"Window resets"</th>
                    <th scope="col">"Paused until"</th>
                    <th scope="col">"Media uploads"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="hint">
            "The budget is Crier's own count of calls per account, so it waits before a platform refuses; a platform's rate limit pauses an account until it resets. Media upload calls are counted apart: a post whose media would overspend them waits for the window, and the account's other posts go on."
        </p>
    }
    .into_any()
}
