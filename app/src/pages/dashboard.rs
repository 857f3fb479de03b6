//! `/`: the team's posts as a list, a week or a month, each with a chip per delivery, filters and
//! "Retry all failed". While a post shown is publishing or due within a minute the page reloads
//! itself every 2 seconds (`ReloadWhileBusy`), so its chips follow the posts going out.
//!
//! However many posts a team has, a page shows a bounded number: the list pages with plain
//! links (`?after=` older, `?before=` newer, `?day=` one day), and a calendar day shows its
//! first few posts with a "+N more" link to that day's list. Every link works without wasm.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::avatar::Avatar;
use crate::components::form::action_error;
use crate::components::live::ReloadWhileBusy;
use crate::components::platform_icon::PlatformIcon;
use crate::components::thumbs::Thumbs;
use crate::server::posts::{Chip, DashboardData, PostCard, RetryFailed, dashboard};
use crier_domain::delivery::DeliveryState;

/// The dashboard.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).unwrap_or_default();
    let data = Resource::new(
        move || (param("state"), param("view"), param("at"), param("day"), param("after"), param("before")),
        |(state, view, at, day, after, before)| dashboard(state, view, at, day, after, before),
    );
    let retry = ServerAction::<RetryFailed>::new();
    let retry_error = action_error(retry.value());
    view! {
        <Title text="Dashboard" />
        <h1>"Dashboard"</h1>
        <Filters
            view=Signal::derive(move || param("view"))
            state=Signal::derive(move || param("state"))
            day=Signal::derive(move || param("day"))
        />
        <Show when=move || retry_error.get().is_some()>
            <p class="form-error" role="alert">{move || retry_error.get().map(|e| e.to_string())}</p>
        </Show>
        <Transition fallback=|| view! { <p class="hint">"Loading posts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        {d.busy.then(|| view! { <ReloadWhileBusy /> })}
                        <DashboardBody data=d retry view=param("view") state=param("state") day=param("day") /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.page_message()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The view and status filters: a plain GET form, so they work before the page is interactive.
#[component]
fn Filters(view: Signal<String>, state: Signal<String>, day: Signal<String>) -> impl IntoView {
    let states = DeliveryState::ALL.map(|s| (s.as_str(), s.label()));
    view! {
        <form method="get" action="/" class="filters">
            <label for="view">"Show"</label>
            // `selected` on the option, not the select's `value` property: the page is rendered on
            // the server, where only attributes exist.
            <select id="view" name="view">
                {[("", "List"), ("week", "Week"), ("month", "Month")]
                    .map(|(value, label)| view! { <option value=value selected=move || view.get() == value>{label}</option> })
                    .collect_view()}
            </select>
            <label for="state">"Status"</label>
            <select id="state" name="state">
                <option value="" selected=move || state.get().is_empty()>"Any"</option>
                {states
                    .into_iter()
                    .map(|(value, label)| view! { <option value=value selected=move || state.get() == value>{label}</option> })
                    .collect_view()}
            </select>
            // The day's list keeps its day when the status changes (and a calendar opens on it).
            <Show when=move || !day.get().is_empty()>
                <input type="hidden" name="day" value=move || day.get() />
            </Show>
            <button type="submit" class="secondary">"Apply"</button>
        </form>
    }
}

/// A dashboard address: `/` with the given parameters, the empty ones left out.
fn dashboard_href(params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={v}")).collect();
    if query.is_empty() { "/".to_owned() } else { format!("/?{}", query.join("&")) }
}

#[component]
fn DashboardBody(data: DashboardData, retry: ServerAction<RetryFailed>, view: String, state: String, day: String) -> impl IntoView {
    let retry_all = (data.failed > 0 && data.can_publish).then(|| {
        view! {
            <ActionForm action=retry attr:class="inline">
                <button type="submit" class="secondary">{format!("Retry all failed ({})", data.failed)}</button>
            </ActionForm>
        }
    });
    let can_publish = data.can_publish;
    if data.days.is_empty() {
        let title = (!day.is_empty()).then(|| {
            view! {
                <p class="calendar-nav">
                    <strong>{data.title.clone()}</strong>
                    <a href=dashboard_href(&[("state", &state)])>"All days"</a>
                </p>
            }
        });
        let body = if data.posts.is_empty() {
            if day.is_empty() {
                view! { <p class="hint">"No posts yet. " <a href="/compose">"Compose one"</a>"."</p> }.into_any()
            } else {
                view! { <p class="hint">"No posts are due that day."</p> }.into_any()
            }
        } else {
            let cards = data.posts.into_iter().map(|post| view! { <PostLine post retry can_publish /> }).collect_view();
            view! { <ul class="posts">{cards}</ul> }.into_any()
        };
        // Page links: plain addresses, so they work before the wasm loads and can be bookmarked.
        let paged = data.older.is_some() || data.newer.is_some();
        let pager = paged.then(|| {
            let newest = dashboard_href(&[("state", &state), ("day", &day)]);
            let newer = data.newer.map(|c| dashboard_href(&[("state", &state), ("day", &day), ("before", &c)]));
            let older = data.older.map(|c| dashboard_href(&[("state", &state), ("day", &day), ("after", &c)]));
            view! {
                <nav class="pager" aria-label="Pages of posts">
                    {newer.map(|href| view! {
                        <a href=newest>"Newest"</a>
                        <a href=href rel="prev">"← Newer"</a>
                    })}
                    {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
                </nav>
            }
        });
        view! {
            {retry_all}
            {title}
            {body}
            {pager}
        }
        .into_any()
    } else {
        let link = |at: &str| dashboard_href(&[("view", &view), ("state", &state), ("at", at)]);
        let nav = view! {
            <p class="calendar-nav">
                <a href=link(&data.previous)>"← Previous"</a>
                <strong>{data.title.clone()}</strong>
                <a href=link(&data.next)>"Next →"</a>
            </p>
        };
        let movable = can_publish;
        let week = view == "week";
        let now_time = data.now_time.clone();
        // The week's hours, beside its grid.
        let hours = week.then(|| {
            let labels = (0..24).map(|h| view! { <li>{format!("{h:02}:00")}</li> }).collect_view();
            view! { <li class="hours" aria-hidden="true"><span class="day-label"></span><ol class="entries">{labels}</ol></li> }
        });
        let free_slots = data.free_slots.clone();
        let days = data
            .days
            .into_iter()
            .map(|day| {
                let class = match (day.in_range, day.today) {
                    (_, true) => "day today",
                    (true, false) => "day",
                    (false, false) => "day outside",
                };
                let class = if day.posts.is_empty() && day.more == 0 { format!("{class} empty") } else { class.to_owned() };
                // The week is a time grid: each day's posts in their hour's row (rows line up
                // across the days), today's current hour marked.
                let entries = if week {
                    let now_hour = day.today.then(|| now_time.get(..2).unwrap_or_default().to_owned());
                    let mut posts = day.posts.into_iter().peekable();
                    (0..24)
                        .map(|hour| {
                            let hour = format!("{hour:02}");
                            let mut here = Vec::new();
                            while let Some(p) = posts.next_if(|p| p.when.split(' ').nth(1).and_then(|t| t.get(..2)) <= Some(hour.as_str()))
                            {
                                here.push(entry(p, movable));
                            }
                            let now = (now_hour.as_deref() == Some(hour.as_str())).then(|| {
                                let label = format!("Now, {now_time}");
                                view! { <span class="now-line" role="img" aria-label=label.clone() title=label></span> }
                            });
                            // The hour's free times in the accounts' queues: a post dropped on one
                            // moves to that time and joins that account's queue.
                            let free = free_slots
                                .iter()
                                .filter(|f| f.day == day.date && f.time.get(..2) == Some(hour.as_str()))
                                .map(|f| {
                                    let minute = f.time.get(3..5).unwrap_or("00").to_owned();
                                    let title = format!("A free time in the queue of {}", f.account);
                                    let words = format!("{} {} · free", f.time, f.account);
                                    view! { <li class="free-slot" data-account=f.account_id.clone() data-minute=minute title=title>{words}</li> }
                                })
                                .collect_view();
                            let class = if now.is_some() { "slot now" } else { "slot" };
                            view! { <li class=class data-hour=hour>{now}<ul>{here}{free}</ul></li> }.into_any()
                        })
                        .collect_view()
                        .into_any()
                } else {
                    day.posts.into_iter().map(|p| entry(p, movable)).collect_view().into_any()
                };
                let more = (day.more > 0).then(|| {
                    let href = dashboard_href(&[("state", &state), ("day", &day.date)]);
                    let words = if day.more_at_least { format!("{}+ more", day.more) } else { format!("+{} more", day.more) };
                    view! { <a class="more" href=href>{words}</a> }
                });
                // A new post on that day, from the calendar (Compose starts at 09:00 there).
                let new_post = format!("/compose?on={}", day.date);
                let new_label = format!("New post on {}", day.label);
                view! {
                    <li class=class data-date=day.date.clone()>
                        <span class="day-label"><time datetime=day.date.clone()>{day.label}</time></span>
                        <a class="new-post" href=new_post title=new_label.clone() aria-label=new_label>"+"</a>
                        {more}
                        <ol class="entries">{entries}</ol>
                    </li>
                }
            })
            .collect_view();
        // Posts move to another day by drag and drop (a small script of its own, not wasm: the
        // budget is the islands'); the line below says what happened, or why not.
        let script = can_publish.then(|| {
            view! {
                <p class="hint">"Drag a post to another day (in the week, to an hour, or onto a free time of an account's queue, which it then joins) to move it there, or focus it and press Alt with an arrow key: ← → a day, ↑ ↓ an hour in the week or a week in the month. Click an empty day or hour to write a post for then."</p>
                <p class="notice" id="calendar-status" role="status" hidden></p>
                <script type="module" src="/calendar.js"></script>
            }
        });
        view! {
            {retry_all}
            {nav}
            <ol class=if week { "calendar week" } else { "calendar" } data-movable=can_publish.then_some("true")>{hours}{days}</ol>
            {script}
        }
        .into_any()
    }
}

/// One post on the calendar, compact: its time and first words (cut to the cell), a thumbnail,
/// and each delivery as its platform's icon in its status colour; `movable` by drag and drop.
fn entry(p: PostCard, movable: bool) -> impl IntoView {
    let time = p.when.split(' ').nth(1).unwrap_or_default().to_owned();
    let deliveries = p
        .chips
        .iter()
        .map(|c| {
            let state = c.state.as_str();
            let words = chip_words(c);
            let label = words.clone();
            // The account's picture when it has one; no letter here, where the icon's label
            // already names the account and every pixel of the day counts.
            let picture =
                c.picture.clone().map(|src| view! { <img class="avatar small" src=src alt="" width="14" height="14" decoding="async" /> });
            view! {
                <span class=format!("delivery-dot {state}") data-state=state title=words>
                    <PlatformIcon platform=c.platform size=14 label />
                    {picture}
                </span>
            }
        })
        .collect_view();
    // A draft with a planned time shows as one (dashed, "Draft"), opens in Compose and is not dragged.
    let (class, href) =
        if p.draft { ("entry draft", format!("/compose?draft={}", p.post_id)) } else { ("entry", format!("/posts/{}", p.post_id)) };
    view! {
        <li class=class data-post=p.post_id.clone() draggable=(movable && !p.draft).then_some("true")>
            <a class="entry-link" href=href>
                <time>{time}</time>
                " "
                {p.draft.then_some(view! { <strong class="draft-mark">"Draft "</strong> })}
                <span class="entry-text">{p.text.clone()}</span>
            </a>
            <span class="entry-meta">
                <Thumbs media=p.media.clone() max=1 size=32 />
                {deliveries}
            </span>
        </li>
    }
}

/// A delivery in words: "X · acme: Scheduled".
fn chip_words(chip: &Chip) -> String {
    format!("{} · {}: {}", chip.platform.label(), chip.account, chip.state.label())
}

/// One delivery's status chip.
#[component]
pub fn ChipView(chip: Chip) -> impl IntoView {
    let state = chip.state.as_str();
    let words = chip_words(&chip);
    let title = chip.error.clone().or_else(|| chip.next_attempt.clone().map(|t| format!("Next attempt {t}")));
    view! {
        <span class=format!("chip {state}") data-state=state title=title>
            <PlatformIcon platform=chip.platform size=14 />
            <Avatar name=chip.account.clone() picture=chip.picture.clone() small=true />
            {words}
        </span>
    }
}

#[component]
fn PostLine(post: PostCard, retry: ServerAction<RetryFailed>, can_publish: bool) -> impl IntoView {
    let any_failed = post.chips.iter().any(|c| c.state == DeliveryState::Failed);
    let chips = post.chips.iter().map(|c| view! { <ChipView chip=c.clone() /> }).collect_view();
    let label = match (post.draft, post.dry_run) {
        (true, _) => format!("Draft · planned for {}", post.when),
        (false, true) => format!("{} · dry run", post.when),
        (false, false) => post.when.clone(),
    };
    // A post not yet scheduled opens in Compose.
    let href = if post.draft { format!("/compose?draft={}", post.post_id) } else { format!("/posts/{}", post.post_id) };
    let post_id = post.post_id.clone();
    view! {
        <li class=if post.draft { "post-line draft" } else { "post-line" } data-post=post.post_id.clone()>
            <a href=href>{post.text.clone()}</a>
            <Thumbs media=post.media.clone() />
            <small class="hint">{label}</small>
            <div class="chips">{chips}</div>
            {(any_failed && can_publish).then(|| view! {
                <ActionForm action=retry attr:class="inline">
                    <input type="hidden" name="post_id" value=post_id.clone() />
                    <button type="submit" class="secondary">"Retry failed"</button>
                </ActionForm>
            })}
        </li>
    }
}
