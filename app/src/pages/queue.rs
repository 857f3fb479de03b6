//! `/accounts/{id}/queue`: an account's posting schedule (its weekly times, in a timezone chosen
//! for it) and the posts waiting in its queue, in order, each with where it goes and a note when
//! a skipped or repeated time moved it; move up, down, to the top, shuffle, remove, pause and
//! resume. Rendered on the server; plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use server_fn::ServerFn;

use crate::components::form::{FormError, Notice, action_error, kept_notice, refill};
use crate::pages::compose::FieldMessage;
use crate::server::queues::{MoveInQueue, PauseQueue, QueueData, QueueRow, RemoveFromQueue, SavePostingSchedule, queue_page};

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The page.
#[component]
pub fn QueuePage() -> impl IntoView {
    let params = use_params_map();
    let id = params.read_untracked().get("id").unwrap_or_default();
    let data = Resource::new(move || id.clone(), queue_page);
    let save = ServerAction::<SavePostingSchedule>::new();
    let moved = ServerAction::<MoveInQueue>::new();
    let removed = ServerAction::<RemoveFromQueue>::new();
    let pause = ServerAction::<PauseQueue>::new();
    let notice = move || kept_notice(SavePostingSchedule::PATH).or_else(|| kept_notice(PauseQueue::PATH));
    let row_error = Signal::derive(move || {
        [action_error(moved.value()).get(), action_error(removed.value()).get(), action_error(pause.value()).get()]
            .into_iter()
            .flatten()
            .next()
    });
    view! {
        <Title text="Queue" />
        <Suspense fallback=|| view! { <h1>"Queue"</h1><p class="hint">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Queue page save moved removed pause notice=Signal::derive(notice) row_error /> }.into_any(),
                    Err(e) => view! { <h1>"Queue"</h1><p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Queue(
    page: QueueData,
    save: ServerAction<SavePostingSchedule>,
    moved: ServerAction<MoveInQueue>,
    removed: ServerAction<RemoveFromQueue>,
    pause: ServerAction<PauseQueue>,
    notice: Signal<Option<String>>,
    row_error: Signal<Option<crate::errors::AppError>>,
) -> impl IntoView {
    let heading = format!("Queue: {}", page.name);
    let intro = if page.paused {
        "This queue is paused: its posts wait, and take the next free times when you resume it.".to_owned()
    } else if page.next_free.is_empty() {
        "Give this account its weekly times below; then “Add to queue” in Compose puts each post in the next free one.".to_owned()
    } else {
        format!("“Add to queue” in Compose puts the next post here at {}.", page.next_free.join(", then "))
    };
    let account_id = page.account_id.clone();
    let pause_form = (page.can_edit && page.has_schedule).then(|| {
        let (value, words) = if page.paused { ("false", "Resume queue") } else { ("true", "Pause queue") };
        let id = account_id.clone();
        view! {
            <ActionForm action=pause>
                <input type="hidden" name="account_id" value=id />
                <input type="hidden" name="paused" value=value />
                <button type="submit" class="secondary">{words}</button>
            </ActionForm>
        }
    });
    let shuffle_form = (page.can_edit && page.items.len() > 1).then(|| {
        let id = account_id.clone();
        view! {
            <ActionForm action=moved>
                <input type="hidden" name="account_id" value=id />
                <input type="hidden" name="how" value="shuffle" />
                <button type="submit" class="secondary">"Shuffle"</button>
            </ActionForm>
        }
    });
    let count = page.items.len();
    let rows = page
        .items
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, row)| view! { <Row row account_id=account_id.clone() first=i == 0 last=i + 1 == count can_edit=page.can_edit moved removed /> })
        .collect_view();
    let list = if count == 0 {
        view! { <p class="hint">"Nothing is waiting in this queue."</p> }.into_any()
    } else {
        view! { <ol class="queue stack">{rows}</ol> }.into_any()
    };
    view! {
        <h1>{heading}</h1>
        <p><A href="/accounts">"← Accounts"</A> " · " {page.platform.clone()}</p>
        <Notice message=move || notice.get() />
        <p class="hint">{intro}</p>
        <FormError error=row_error />
        <div class="actions">{pause_form}{shuffle_form}</div>
        {list}
        <ScheduleForm page save />
    }
}

#[component]
fn Row(
    row: QueueRow,
    account_id: String,
    first: bool,
    last: bool,
    can_edit: bool,
    moved: ServerAction<MoveInQueue>,
    removed: ServerAction<RemoveFromQueue>,
) -> impl IntoView {
    let short: String = row.text.chars().take(140).collect();
    let buttons = can_edit.then(|| {
        let button = |how: &'static str, words: &'static str, hidden: bool| {
            let (id, delivery) = (account_id.clone(), row.delivery_id.clone());
            let label = format!("{words}: {}", row.text.chars().take(40).collect::<String>());
            (!hidden).then(|| {
                view! {
                    <ActionForm action=moved>
                        <input type="hidden" name="account_id" value=id />
                        <input type="hidden" name="delivery_id" value=delivery />
                        <input type="hidden" name="how" value=how />
                        <button type="submit" class="secondary" aria-label=label>{words}</button>
                    </ActionForm>
                }
            })
        };
        let (id, delivery) = (account_id.clone(), row.delivery_id.clone());
        let remove_label = format!("Remove from the queue: {}", row.text.chars().take(40).collect::<String>());
        view! {
            <div class="row-actions">
                {button("top", "Top", first)}
                {button("up", "Up", first)}
                {button("down", "Down", last)}
                <ActionForm action=removed>
                    <input type="hidden" name="account_id" value=id />
                    <input type="hidden" name="delivery_id" value=delivery />
                    <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                </ActionForm>
            </div>
        }
    });
    view! {
        <li class="panel queue-item" data-delivery=row.delivery_id.clone()>
            <p><strong>{row.when.clone()}</strong> " · " <a href=format!("/posts/{}", row.post_id)>{short}</a></p>
            {row.note.clone().map(|n| view! { <p class="hint">{n}</p> })}
            {buttons}
        </li>
    }
}

#[component]
fn ScheduleForm(page: QueueData, save: ServerAction<SavePostingSchedule>) -> impl IntoView {
    let error = action_error(save.value());
    let zone = refill(SavePostingSchedule::PATH, "timezone").unwrap_or(page.timezone.clone());
    let options = page
        .zones
        .iter()
        .map(|z| {
            let selected = *z == zone;
            view! { <option value=z.clone() selected=selected>{z.clone()}</option> }
        })
        .collect_view();
    let days = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let name: &'static str = ["times_1", "times_2", "times_3", "times_4", "times_5", "times_6", "times_7"][i];
            let value = refill(SavePostingSchedule::PATH, name).unwrap_or_else(|| page.times[i].clone());
            view! {
                <div class="field">
                    <label for=name>{*day}</label>
                    <input id=name name=name value=value placeholder="09:00, 12:30, 17:45" autocomplete="off" inputmode="numeric" />
                    <FieldMessage name=name error />
                </div>
            }
        })
        .collect_view();
    let id = page.account_id.clone();
    view! {
        <h2>"Posting schedule"</h2>
        <section class="panel">
            {if page.can_edit {
                view! {
                    <ActionForm action=save attr:class="stack">
                        <FormError error />
                        <input type="hidden" name="account_id" value=id />
                        <div class="field">
                            <label for="queue-timezone">"Timezone"</label>
                            <p class="hint" id="queue-timezone-hint">"The times below are in this zone, whatever zone each member uses."</p>
                            <select id="queue-timezone" name="timezone" aria-describedby="queue-timezone-hint">{options}</select>
                            <FieldMessage name="timezone" error />
                        </div>
                        <p class="hint">"Times of day as HH:MM, separated by commas. A time the clocks skip goes out just after the change, and one they repeat the first time; the queue says so beside the post."</p>
                        {days}
                        <div><button type="submit">"Save schedule"</button></div>
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p class="hint">"Editors, admins and owners change the schedule."</p> }.into_any()
            }}
        </section>
    }
}
