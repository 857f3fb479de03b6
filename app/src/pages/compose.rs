//! `/compose`: write a post, choose the accounts, and publish now, schedule it or dry-run it.
//!
//! The counters are `crier-text` compiled into the wasm (the same code the server checks with),
//! measuring the text each platform will get: on X that includes the link. The schedule time is
//! typed in the person's own timezone; the line under it says what that is in UTC, and a time
//! that does not exist or happens twice (a daylight-saving change) is explained, never shifted.
//! The form is an island, and a plain form first: without wasm it posts and the page comes back
//! with the errors and what was typed.

use leptos::prelude::*;
use leptos_meta::Title;
use server_fn::ServerFn;

use crate::components::activity::PostActivity;
use crate::components::attachments::{Attachments, LibraryPick, attachments_field};
use crate::components::form::{
    FormError, FormKey, FormValues, IslandForm, NOTICE_FIELD, action_error, form_action, kept_values, provide_form_state, refill,
    refill_list, send_fields, send_form_fields, typed_value,
};
use crate::components::link_tracking::{LinkTrackingFields, TrackingValues};
use crate::components::retry::RetryPolicyFields;
use crate::errors::AppError;
use crate::server::drafts::draft_form;
use crate::server::link_tracking::link_tracking_settings;
use crate::server::media::media_library;
use crate::server::posts::{
    ComposeAccount, ComposeData, CreatePost, ExplainTime, TRACKING_SENT, UNDO_FIELD, UndoPost, compose_view, explain_time,
    platform_text_field,
};
use crate::server::preview::{PreviewPost, preview_post};
use crier_domain::post::PostContent;
use crier_platform::Platform;

/// The Compose page. It starts with what a plain form post left (a refused post, an upload), or
/// the draft named by `?draft=<id>` (from Drafts or the calendar), or the media the Media page's
/// "Use in a new post" named (`?media=<id>,<id>`).
#[component]
pub fn ComposePage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let kept = kept_values(CreatePost::PATH);
    let draft = query.read_untracked().get("draft").unwrap_or_default();
    // A post not yet scheduled is discussed here (a scheduled one, on its own page).
    let discussed = Some(draft.trim().to_owned()).filter(|d| !d.is_empty());
    let named: Vec<String> = query
        .read_untracked()
        .get("media")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    // A day (`?on=YYYY-MM-DD`) or an hour of it (`&at=HH`) chosen on the calendar: the schedule
    // starts there.
    let on = query.read_untracked().get("on").unwrap_or_default();
    let at = query.read_untracked().get("at").unwrap_or_default();
    let data = Resource::new(
        || (),
        move |_| {
            let (kept, draft, named, on, at) = (kept.clone(), draft.clone(), named.clone(), on.clone(), at.clone());
            async move {
                let kept = match kept {
                    Some(kept) => Some(kept),
                    None if !draft.trim().is_empty() => Some(draft_form(draft).await?),
                    None => None,
                };
                let value = |field: &str| kept.as_ref().and_then(|k| k.value(field)).unwrap_or_default();
                let list = |field: &str| kept.as_ref().map(|k| k.list(field)).unwrap_or_default();
                let (media, media_alt) = match list("media") {
                    listed if !listed.is_empty() => (listed, kept.as_ref().map(|k| k.items("media_alt")).unwrap_or_default()),
                    _ => (named, Vec::new()),
                };
                // The previews as the form starts (the island asks again as it changes).
                let previews = preview_post(
                    value("text"),
                    value("text_x"),
                    value("text_linkedin"),
                    value("text_facebook"),
                    value("link"),
                    list("thread"),
                    list("accounts"),
                    media.clone(),
                    media_alt.clone(),
                )
                .await?;
                let view_data = compose_view(media, media_alt, on, at, value("draft")).await?;
                // The line under the time field, for the time the form starts with; the island
                // asks again when the time changes.
                let when = kept.as_ref().and_then(|k| k.value("scheduled_at")).unwrap_or_else(|| view_data.starts_at.clone());
                let explained = explanation(explain_time(when, String::new()).await);
                let team_tracking = link_tracking_settings().await?;
                let tracking = TrackingValues::new(&team_tracking, kept.as_ref(), TRACKING_SENT);
                Ok::<_, AppError>((view_data, media_library(String::new()).await?, previews, kept, explained, (team_tracking, tracking)))
            }
        },
    );
    view! {
        <Title text="Compose" />
        <h1>"Compose"</h1>
        <p><a href="/compose/batch">"Schedule several posts at once"</a> " · " <a href="/compose/import">"Import from CSV"</a> " · " <a href="/drafts">"Drafts"</a> " · " <a href="/review">"Review"</a></p>
        <Suspense fallback=|| view! { <p class="hint">"Loading your accounts…"</p> }>
            {move || {
                let discussed = discussed.clone();
                Suspend::new(async move {
                match data.await {
                    Ok((view_data, library, previews, kept, explained, (team_tracking, tracking))) => {
                        let open = tracking.is_on();
                        let comments = first_comment_fields(kept.as_ref());
                        view! {
                            <div class="compose-layout">
                                <div class="compose-main">
                                    <ComposeForm data=view_data kept explained>
                                        <LibraryPick items=library />
                                    </ComposeForm>
                                    // Server-rendered, outside the island (no wasm), sent with its form.
                                    {comments}
                                    <details class="panel link-tracking" open=open>
                                        <summary>"Link tracking"</summary>
                                        <p class="hint">"Sent with the post. The team's defaults are in " <a href="/settings#link-tracking">"Settings"</a> "."</p>
                                        <LinkTrackingFields values=tracking team=team_tracking form=COMPOSE_FORM error=None />
                                    </details>
                                </div>
                                <section class="previews" aria-labelledby="previews-heading">
                                    <h2 id="previews-heading">"Previews"</h2>
                                    <div id=PREVIEWS inner_html=previews></div>
                                </section>
                            </div>
                            <form id=UNDO_FORM action=UndoPost::url() method="post" hidden></form>
                            {discussed.clone().map(|post_id| view! { <PostActivity post_id /> })}
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

/// A field's inline error, if the last submission had one for `name`.
#[component]
pub(crate) fn FieldMessage(name: &'static str, error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field(name));
    view! {
        <Show when=move || message().is_some()>
            <p class="field-error" id=format!("{name}-error") role="alert">{message}</p>
        </Show>
    }
}

/// The form itself, an island: the counters, previews, thread and time explanation live in the
/// browser, and it posts in place. `kept` is what a failed plain post typed (see `provide_form_state`);
/// `explained` is what the time the form starts with means; `children` the library's list to attach from.
#[island]
fn ComposeForm(data: ComposeData, kept: Option<FormValues>, explained: String, children: Children) -> impl IntoView {
    provide_form_state(kept);
    let create = form_action::<CreatePost>();
    let error = action_error(create.value());
    // Each field starts from what is in it as the wasm arrives (what was typed before, or what the
    // server rendered: a refill after a plain post, or nothing).
    let text = RwSignal::new(typed_value("text").or_else(|| refill(CreatePost::PATH, "text")).unwrap_or_default());
    let link = RwSignal::new(typed_value("link").or_else(|| refill(CreatePost::PATH, "link")).unwrap_or_default());
    let overrides = Platform::ALL.map(|p| (p, RwSignal::new(typed_value(platform_text_field(p)).unwrap_or_else(|| refill_override(p)))));
    let media = Attachments::new(data.attached.clone(), data.media_rules.clone());
    let media_notice = refill(CreatePost::PATH, "media_notice");
    let media_error = refill(CreatePost::PATH, "media_error");
    let plain_done = refill(CreatePost::PATH, NOTICE_FIELD).zip(refill(CreatePost::PATH, "post_id"));
    let plain_undo = refill(CreatePost::PATH, UNDO_FIELD).is_some();
    let plain_draft = plain_done.is_some() && refill(CreatePost::PATH, "draft").is_some();
    let max_file = data.max_file.clone();
    let typed_replies = refill_list(CreatePost::PATH, "thread");
    let next_reply = StoredValue::new(typed_replies.len());
    let thread: RwSignal<Vec<(usize, RwSignal<String>)>> = RwSignal::new(
        typed_replies
            .into_iter()
            .enumerate()
            .map(|(id, reply)| (id, RwSignal::new(typed_value(&format!("thread-{id}")).unwrap_or(reply))))
            .collect(),
    );
    let when = RwSignal::new(
        typed_value("scheduled_at").or_else(|| refill(CreatePost::PATH, "scheduled_at")).unwrap_or_else(|| data.starts_at.clone()),
    );
    let occurrence = RwSignal::new(String::new());
    // What the time means, asked of the server again whenever the time or the chosen occurrence
    // changes; the line keeps the last answer until the next arrives, and only the latest question's
    // answer is shown. (Not a `Resource` in a `<Transition>`: the async machinery those bring into
    // the wasm was about 20 KB of it, gzipped, for this one line; see BENCHMARKS.md.)
    let explained = RwSignal::new(explained);
    // Whether the last answer was that the time happens twice (then the choice shows at once).
    let ambiguous = RwSignal::new(false);
    let asked = StoredValue::new(0_u32);
    Effect::new(move |started: Option<()>| {
        let (at, which) = (when.get(), occurrence.get());
        // The first run only subscribes: the server rendered the answer for the starting time.
        if started.is_some() {
            let question = asked.get_value().wrapping_add(1);
            asked.set_value(question);
            let answer = send_fields::<ExplainTime>(&[("scheduled_at", &at), ("occurrence", &which)]);
            leptos::task::spawn_local(async move {
                let answer = answer.await;
                if asked.get_value() == question {
                    ambiguous.set(answer.as_ref().is_err_and(|e| e.field("occurrence").is_some()));
                    explained.set(explanation(answer));
                }
            });
        }
    });
    let twice = move || ambiguous.get() || error.get().and_then(|e| e.field("occurrence")).is_some() || !occurrence.get().is_empty();
    // A time typed before the wasm arrived is explained once hydrated (this runs after the
    // explanation's effect, so that is listening).
    let rendered_when = refill(CreatePost::PATH, "scheduled_at").unwrap_or_else(|| data.starts_at.clone());
    Effect::new(move |_| {
        if when.get_untracked() != rendered_when {
            when.notify();
        }
    });

    // The text each platform gets: its own text if written, and on X the link. While the island
    // hydrates it is drawn from what the server rendered in the fields (hydrating keeps the
    // server's text nodes and only a later change redraws them), then from the fields' signals,
    // which start from what was typed before the wasm arrived: the counters and previews catch up.
    let rendered = StoredValue::new((
        refill(CreatePost::PATH, "text").unwrap_or_default(),
        refill(CreatePost::PATH, "link").unwrap_or_default(),
        Platform::ALL.map(refill_override),
    ));
    let published = move |platform: Platform| {
        let index = Platform::ALL.iter().position(|p| *p == platform).unwrap_or_default();
        let (shared, link, own) = if media.hydrated() {
            (text.get(), link.get(), overrides[index].1.get())
        } else {
            rendered.with_value(|(text, link, own)| (text.clone(), link.clone(), own[index].clone()))
        };
        let content = PostContent {
            text: if own.trim().is_empty() { shared } else { own },
            overrides: Vec::new(),
            link: (!link.trim().is_empty()).then(|| link.trim().to_owned()),
            thread: Vec::new(),
            ..PostContent::default()
        };
        content.published_text(platform, !media.is_empty())
    };

    // The counters measure what each platform gets.
    let counters = move || {
        Platform::ALL
            .into_iter()
            .map(|platform| {
                let check = crier_text::check(platform, &published(platform));
                let over = check.length > check.limit;
                let class = if over { "counter over" } else { "counter" };
                let words = format!("{}: {} / {}", platform.label(), check.length, check.limit);
                let note = if over { format!(" ({} over)", check.length - check.limit) } else { String::new() };
                view! { <li class=class data-platform=platform.as_str()>{format!("{words}{note}")}</li> }
            })
            .collect_view()
    };
    let done = move || create.value().get().and_then(Result::ok);
    // The draft the form holds, if it is one: saving again updates it, scheduling it makes it the post.
    let draft = RwSignal::new(refill(CreatePost::PATH, "draft").unwrap_or_default());
    // After Publish now or Schedule the form empties (sending it again would be a second post)
    // and the notice offers Undo; the accounts and the time stay. A dry run keeps the post, and a
    // saved draft stays in the form.
    Effect::new(move |_| {
        if let Some(saved) = done().and_then(|d| d.draft_id) {
            draft.set(saved);
        } else if done().is_some_and(|d| !d.dry_run) {
            draft.set(String::new());
            text.set(String::new());
            link.set(String::new());
            overrides.iter().for_each(|(_, own)| own.set(String::new()));
            thread.set(Vec::new());
            media.clear();
            // The first comments (outside the island, `first_comment_fields`) go with the post.
            #[cfg(feature = "hydrate")]
            for platform in Platform::ALL {
                if let Some(area) = document().get_element_by_id(&format!("first_comment_{}", platform.as_str())) {
                    let _ = js_sys::Reflect::set(&area, &"value".into(), &"".into());
                }
            }
        }
    });
    // Each post the form sends in place gets a new one-time key: sending it again (a double click)
    // repeats the same post's answer, a new post gets a new key.
    let form_key = RwSignal::new(data.form_key.clone());
    Effect::new(move |_| {
        if let Some(next) = done().map(|d| d.next_form_key) {
            form_key.set(next);
        }
    });
    // The previews (drawn by the server beside the form, `server::preview`) follow the form: any
    // field typed or ticked (`changed`), the texts emptied after posting, the media attached,
    // removed or reordered. The first run asks too, for what was typed before the wasm arrived.
    // Only the latest question's answer is shown.
    let changed = RwSignal::new(0_u32);
    let previewed = StoredValue::new(0_u32);
    Effect::new(move |_| {
        changed.track();
        text.track();
        media.is_empty();
        let question = previewed.get_value().wrapping_add(1);
        previewed.set_value(question);
        let answer = send_form_fields::<PreviewPost>("form.compose");
        leptos::task::spawn_local(async move {
            if let (Ok(html), true) = (answer.await, previewed.get_value() == question)
                && let Some(previews) = document().get_element_by_id(PREVIEWS)
            {
                previews.set_inner_html(&html);
            }
        });
    });
    let timezone = data.timezone.clone();
    let can_publish = data.can_publish;
    let needs_review = data.needs_review;
    let team_retry = data.retry;
    let own_attempts = refill(CreatePost::PATH, "max_attempts").unwrap_or_default();
    let own_minutes = refill(CreatePost::PATH, "first_retry_minutes").unwrap_or_default();
    let retry_open = !own_attempts.is_empty() || !own_minutes.is_empty();

    view! {
        <IslandForm action=create id=COMPOSE_FORM class="panel stack compose">
            // Only to hear every field's input in one place; it lays nothing out (`display: contents`).
            <div class="compose-fields" on:input=move |_| changed.update(|n| *n = n.wrapping_add(1))>
            <FormKey key=form_key />
            <FormError error />
            {move || done().map(|d| posted_notice(d.message, d.post_id, !d.dry_run && d.draft_id.is_none(), d.draft_id.is_some()))}
            // After a plain post (no wasm), the page comes back empty with what happened.
            {plain_done.map(|(message, post_id)| posted_notice(message, post_id, plain_undo, plain_draft))}
            <input type="hidden" name="draft" prop:value=move || draft.get() value=draft.get_untracked() />
            <div class="field">
                <label for="text">"Text"</label>
                <p class="hint" id="text-hint">"Counted as each platform counts: X weighs links as 23 and most emoji and CJK characters as 2."</p>
                <textarea
                    id="text"
                    name="text"
                    rows="6"
                    required
                    aria-describedby="text-hint post-text-counts"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:paste=move |ev| media.paste(&ev)
                >{text.get_untracked()}</textarea>
                <FieldMessage name="text" error />
            </div>
            <ul class="counters" id="post-text-counts" aria-live="polite">{counters}</ul>
            {attachments_field(media, error, max_file, media_notice, media_error)}
            // The library's list, rendered by the server (the island's children): shown with the wasm.
            <div class="library-slot" hidden=move || !media.hydrated() on:click=move |ev| media.library_click(&ev)>{children()}</div>
            <details class="overrides">
                <summary>"A different text for one platform"</summary>
                {overrides.map(|(platform, value)| {
                    let name = platform_text_field(platform);
                    let label = format!("Text for {}", platform.label());
                    view! {
                        <div class="field">
                            <label for=name>{label}</label>
                            <textarea id=name name=name rows="3"
                                prop:value=move || value.get()
                                on:input=move |ev| value.set(event_target_value(&ev))
                            >{value.get_untracked()}</textarea>
                            <FieldMessage name=name error />
                        </div>
                    }
                }).collect_view()}
            </details>
            <div class="field">
                <label for="link">"Link"</label>
                <p class="hint" id="link-hint">"Optional. Added to the end of the X text; a link card on LinkedIn and Facebook."</p>
                <input id="link" name="link" type="url" inputmode="url" placeholder="https://"
                    aria-describedby="link-hint"
                    value=link.get_untracked()
                    prop:value=move || link.get()
                    on:input=move |ev| link.set(event_target_value(&ev))
                />
                <FieldMessage name="link" error />
            </div>
            <AccountChoice accounts=data.accounts.clone() ticked=refill_list(CreatePost::PATH, "accounts") error />
            <fieldset class="thread">
                <legend>"X thread"</legend>
                <p class="hint">"Replies that follow the X post, in order. Other platforms get the text alone."</p>
                <For each=move || thread.get().into_iter().enumerate() key=|(_, (id, _))| *id let:item>
                    {
                        let (index, (id, value)) = item;
                        let label = format!("Reply {}", index + 1);
                        let field_id = format!("thread-{id}");
                        let remove_label = format!("Remove reply {}", index + 1);
                        let count = move || {
                            let check = crier_text::check(Platform::X, &value.get());
                            format!("{} / {}", check.length, check.limit)
                        };
                        view! {
                            <div class="field thread-item">
                                <label for=field_id.clone()>{label}</label>
                                <textarea id=field_id name="thread[]" rows="2"
                                    prop:value=move || value.get()
                                    on:input=move |ev| value.set(event_target_value(&ev))
                                >{value.get_untracked()}</textarea>
                                <small class="counter">{count}</small>
                                <button type="button" class="secondary" aria-label=remove_label
                                    on:click=move |_| thread.update(|items| items.retain(|(other, _)| *other != id))
                                >"Remove"</button>
                            </div>
                        }
                    }
                </For>
                <FieldMessage name="thread" error />
                <button type="button" class="secondary" on:click=move |_| {
                    let id = next_reply.get_value();
                    next_reply.set_value(id + 1);
                    thread.update(|items| items.push((id, RwSignal::new(String::new()))));
                }>"Add reply"</button>
            </fieldset>
            <fieldset class="when">
                <legend>"When"</legend>
                <div class="field">
                    <label for="scheduled_at">{format!("Date and time ({timezone})")}</label>
                    <input id="scheduled_at" name="scheduled_at" type="datetime-local"
                        aria-describedby="scheduled-at-explained"
                        value=when.get_untracked()
                        prop:value=move || when.get()
                        on:input=move |ev| when.set(event_target_value(&ev))
                    />
                    <p class="hint" id="scheduled-at-explained" aria-live="polite">
                        {move || explained.get()}
                    </p>
                    <FieldMessage name="scheduled_at" error />
                </div>
                // Always there, hidden unless the time happens twice (a `Show` costs more wasm).
                <div class="field" role="group" aria-labelledby="occurrence-legend" hidden=move || !twice()>
                    <p id="occurrence-legend">"That time happens twice. Publish at:"</p>
                    <label><input type="radio" name="occurrence" value="earlier" on:change=move |_| occurrence.set("earlier".into()) />" the first (summer time)"</label>
                    <label><input type="radio" name="occurrence" value="later" on:change=move |_| occurrence.set("later".into()) />" the second (standard time)"</label>
                    <FieldMessage name="occurrence" error />
                </div>
            </fieldset>
            <details class="retries" open=move || retry_open || error.get().is_some_and(|e| e.field("max_attempts").or_else(|| e.field("first_retry_minutes")).is_some())>
                <summary>"Retries"</summary>
                <p class="hint">{format!("Empty fields follow the team's policy ({}). Change it in Settings.", team_retry.describe())}</p>
                <RetryPolicyFields attempts=own_attempts minutes=own_minutes team_default=Some(team_retry) error />
            </details>
            // Refusals of the post as a whole: approvals needed, a draft scheduled meanwhile.
            <FieldMessage name="intent" error />
            <FieldMessage name="draft" error />
            {if can_publish {
                // Where the viewer's posts need approval, they are submitted for review instead.
                let (first, first_words, second, second_words) =
                    if needs_review { ("review", "Submit for review", "", "") } else { ("now", "Publish now", "schedule", "Schedule") };
                view! {
                    <div class="actions">
                        <button type="submit" name="intent" value=first>{first_words}</button>
                        <button type="submit" name="intent" value=second hidden=needs_review>{second_words}</button>
                        <button type="submit" name="intent" value="queue" hidden=needs_review>"Add to queue"</button>
                        <button type="submit" name="intent" value="dry_run" class="secondary">"Dry run"</button>
                        <button type="submit" name="intent" value="draft" class="secondary">"Save draft"</button>
                    </div>
                }.into_any()
            } else {
                view! { <p class="hint">"Viewers cannot publish. Ask an owner or admin for the editor role."</p> }.into_any()
            }}
            </div>
        </IslandForm>
    }
}

/// The form Compose's Undo buttons submit: outside the island's form (a form holds no form),
/// empty but for the button's own `post_id`, and sent by the browser as a plain post to
/// [`UndoPost`], which takes the post back while nothing has been sent and brings Compose back
/// with it. No script is involved, with or without the wasm.
const UNDO_FORM: &str = "undo-form";

/// The first comment per platform: server-rendered outside the island (no wasm) and sent with
/// Compose's form; open when one is written.
fn first_comment_fields(kept: Option<&FormValues>) -> impl IntoView + use<> {
    let values: Vec<(Platform, String)> = Platform::ALL
        .into_iter()
        .map(|p| (p, kept.and_then(|k| k.value(&format!("first_comment_{}", p.as_str()))).unwrap_or_default()))
        .collect();
    let open = values.iter().any(|(_, v)| !v.trim().is_empty());
    let fields = values
        .into_iter()
        .map(|(platform, value)| {
            let name = format!("first_comment_{}", platform.as_str());
            let limit = crier_domain::post::first_comment_limit(platform);
            let (label, hint) = match platform {
                Platform::X => ("On X", format!("A reply by the same account (to the thread's last part), {limit} characters at most.")),
                Platform::Linkedin => ("On LinkedIn", format!("A comment on the post by its author, {limit} characters at most.")),
                Platform::Facebook => ("On Facebook", format!("A comment by the Page, {limit} characters at most.")),
            };
            let hint_id = format!("{name}-hint");
            view! {
                <div class="field">
                    <label for=name.clone()>{label}</label>
                    <p class="hint" id=hint_id.clone()>{hint}</p>
                    <textarea id=name.clone() name=name form=COMPOSE_FORM rows="2" aria-describedby=hint_id>{value}</textarea>
                </div>
            }
        })
        .collect_view();
    view! {
        <details class="panel first-comments" open=open>
            <summary>"First comment"</summary>
            <p class="hint">"Posted under each post once it is out, with its own retries; the post's page shows it. Leave empty for none."</p>
            {fields}
        </details>
    }
}

/// Compose's form, which the link tracking fields outside the island belong to.
const COMPOSE_FORM: &str = "compose-form";

/// Where the previews are drawn: the server's HTML, swapped in by the island as the form changes.
const PREVIEWS: &str = "compose-previews";

/// What happened to the post just sent, where to follow it, and (after Publish now or Schedule)
/// Undo, a button of the [`UNDO_FORM`].
fn posted_notice(message: String, post_id: String, undo: bool, draft: bool) -> impl IntoView {
    let (follow, words) = if draft { ("/drafts".to_owned(), "Drafts") } else { (format!("/posts/{post_id}"), "Follow it") };
    view! {
        <p class="notice" role="status">
            {message} " " <a href=follow>{words}</a>
            " "
            <button type="submit" class="secondary" form=UNDO_FORM name="post_id" value=post_id hidden=!undo>"Undo"</button>
        </p>
    }
}

/// The line under the time field for the server's answer: what the time means, or why it is not
/// a time to publish at.
fn explanation(answer: Result<String, AppError>) -> String {
    match answer {
        Ok(words) => words,
        Err(e) => e.field("scheduled_at").or_else(|| e.field("occurrence")).unwrap_or_default(),
    }
}

fn refill_override(platform: Platform) -> String {
    refill(CreatePost::PATH, platform_text_field(platform)).unwrap_or_default()
}

/// The accounts as checkboxes, grouped by platform.
#[component]
pub(crate) fn AccountChoice(
    accounts: Vec<ComposeAccount>,
    /// The accounts ticked when the form came back after a failed plain post.
    ticked: Vec<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    if accounts.is_empty() {
        return view! {
            <p class="hint">"No accounts yet. " <a href="/accounts">"Connect one"</a> " to publish."</p>
            <FieldMessage name="accounts" error />
        }
        .into_any();
    }
    let groups = Platform::ALL
        .into_iter()
        .filter_map(|platform| {
            let mine: Vec<ComposeAccount> = accounts.iter().filter(|a| a.platform == platform).cloned().collect();
            (!mine.is_empty()).then(|| {
                let boxes = mine
                    .into_iter()
                    .map(|a| {
                        let warning = a.warning.map(|w| view! { <small class="hint">{format!(" ({w})")}</small> });
                        let checked = ticked.contains(&a.account_id);
                        // The picture alone, not the shared `Avatar` with its letter: this is in the
                        // wasm, whose budget the letter's few kilobytes would break.
                        let avatar = a.picture.map(|src| view! { <img class="avatar" src=src alt="" width="20" height="20" /> });
                        let name = match a.handle {
                            Some(handle) => format!("{} @{handle}", a.name),
                            None => a.name,
                        };
                        view! {
                            <label class="check">
                                <input type="checkbox" name="accounts[]" value=a.account_id checked=checked />
                                {avatar}
                                {name}
                                {warning}
                            </label>
                        }
                    })
                    .collect_view();
                view! {
                    <fieldset class="platform-group">
                        <legend>{platform.label()}</legend>
                        {boxes}
                    </fieldset>
                }
            })
        })
        .collect_view();
    view! {
        <fieldset class="accounts-choice">
            <legend>"Publish to"</legend>
            {groups}
            <FieldMessage name="accounts" error />
        </fieldset>
    }
    .into_any()
}
